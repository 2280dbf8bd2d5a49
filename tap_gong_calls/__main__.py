"""``python -m tap_gong_calls``: the tap's command line."""

from tap_gong_calls.tap import TapGongCalls

TapGongCalls.cli()

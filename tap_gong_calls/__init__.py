"""tap-gong-calls: a Singer tap that extracts Gong calls."""

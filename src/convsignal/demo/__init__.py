"""Bundled sample exports for `convsignal demo` (fictional people and companies)."""

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
CONVERSATIONS_DIR = DATA_DIR / "conversations"
METRICS_CSV = DATA_DIR / "metrics.csv"
DEMO_AS_OF = "2026-11-24"
DEMO_VENDOR = "BrightMetrics"
DEMO_INTERNAL_DOMAIN = "brightmetrics.io"

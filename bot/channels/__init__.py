"""Platform adapters: each turns platform updates into IncomingMessage and Replies into calls."""

import os

# python-telegram-bot: take retry_after and other durations as timedelta now (its future default)
os.environ.setdefault("PTB_TIMEDELTA", "1")

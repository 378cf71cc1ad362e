"""A process that campaigns for the scheduler's leadership and says when it leads (for tests)."""

import sys
import time

from sqlalchemy import create_engine

from bot.scheduling.scheduler import Leadership

leadership = Leadership(create_engine(sys.argv[1]))
print("waiting", flush=True)
while not leadership.try_acquire():
    time.sleep(0.2)
print("leader", flush=True)
time.sleep(600)

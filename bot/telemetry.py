"""The service's own metrics, counted where things happen (a leaf module: anything may import it).

``bot.http.metrics`` exposes them at ``/metrics`` with the gauges read at scrape time.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter("agribot_http_requests", "HTTP requests answered, by route template and status",
                        ["method", "route", "status"], registry=REGISTRY)
SENDS = Counter("agribot_sends", "Queued messages whose sending ended, by channel and result "
                "(sent, failed, skipped, retry, hold)", ["channel", "result"], registry=REGISTRY)
QUESTIONS = Counter("agribot_questions", "Questions typed to the bot, by outcome (answered: a card; "
                    "clarified: «Có phải bác muốn hỏi…?»; refused: no card, recorded for the officers; "
                    "or the intent: emergency, vet, handover, smalltalk, offtopic)", ["outcome"], registry=REGISTRY)
FLOOD = Counter("agribot_flood_messages_not_taken", "Messages not handled because the user was over the flood limit",
                ["channel"], registry=REGISTRY)

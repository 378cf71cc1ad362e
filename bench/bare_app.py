"""The framework floor: a FastAPI endpoint that only parses the JSON body (for the webhook ratio)."""

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/telegram/webhook")
async def webhook(request: Request) -> dict[str, bool]:
    await request.json()
    return {"ok": True}

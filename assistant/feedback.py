"""``POST /api/feedback``: a visitor's thumbs up or down on one answer, by the ``answer_id`` the answer carried.

The reason, if any, comes from a fixed list, never free text: the record stays free of what a visitor might type
about themselves. Bad input gets a 4xx with a sentence a developer can act on.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .app import Assistant
from .web_security import RateLimited, RateLimiter

NOT_RECORDED = (
    "No recorded answer has this answer_id: it is mistyped, has expired, or answers are not recorded on this server."
)
UNAVAILABLE = "The rating could not be stored just now — please try again later."


class FeedbackRequest(BaseModel):
    answer_id: str = Field(min_length=1, max_length=64, description="The answer_id of the answer being rated.")
    rating: Literal["up", "down"] = Field(description="Thumbs up or down.")
    reason: Literal["wrong", "incomplete", "not_my_language", "did_not_answer"] | None = Field(
        None, description="Why it was rated down, from this fixed list (no free text)."
    )


def add_feedback_route(app: FastAPI, assistant: Assistant) -> None:
    """Add the route; ratings are rate-limited per client like questions, in a bucket of their own."""
    limiter = RateLimiter(assistant.settings.rate_limit_per_minute)

    async def rate_limit(request: Request) -> None:
        wait = limiter.take(request.client.host if request.client else "unknown")
        if wait:
            raise RateLimited(wait)

    @app.post(
        "/api/feedback",
        summary="Rate an answer: up or down, with an optional reason from a fixed list.",
        dependencies=[Depends(rate_limit)],
        responses={404: {"description": "No such answer recorded"}, 503: {"description": "Record unavailable"}},
    )
    def feedback(body: FeedbackRequest) -> JSONResponse:
        if body.reason is not None and body.rating == "up":
            raise HTTPException(422, "A reason is only given with a rating of down.")
        stored = assistant.rate(body.answer_id, body.rating, body.reason)
        if stored is None:
            raise HTTPException(503, UNAVAILABLE)
        if not stored:
            raise HTTPException(404, NOT_RECORDED)
        return JSONResponse({"ok": True})

"""A user's application code: a fan app that reports engagement to Segment.

Nothing here knows about the emulator. In production the client points at
Segment's API; in tests it points at the emulator's URL and write key.
"""

from __future__ import annotations

from segment.analytics import Client


class FanApp:
    """Reports what fans do; LiveLike turns it into points and badges."""

    def __init__(self, analytics: Client) -> None:
        self.analytics = analytics

    def sign_in(self, user_id: str, email: str) -> None:
        self.analytics.identify(user_id, {"email": email})

    def vote(self, user_id: str, poll_id: str, choice: str) -> None:
        self.analytics.track(
            user_id, "Poll Voted", {"poll_id": poll_id, "choice": choice}
        )

    def read_article(self, user_id: str, article_id: str) -> None:
        self.analytics.track(user_id, "Article Read", {"article_id": article_id})

"""Segment's destination actions: subscriptions (FQL), mapping kit, destinations,
and delivery from the store to them."""

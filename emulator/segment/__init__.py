"""The Segment Tracking API emulator: ingestion, normalisation, message store."""

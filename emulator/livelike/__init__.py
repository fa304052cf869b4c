"""The LiveLike emulator: destination API, rewards engine, and the LiveLike source."""

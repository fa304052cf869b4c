"""HTTP plumbing shared by the emulated services: errors, app base, server."""

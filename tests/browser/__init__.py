"""End-to-end journeys in a real headless Chromium against the real app served by uvicorn."""

"""Readers of the providers' public price APIs, one module per provider.

Each turns the provider's answers into prices for ids the embedded book already has, and
nothing else: ``app.pricing.refresh`` decides what is written. A reader raises
``SourceUnavailable`` when the provider cannot be reached and ``MalformedResponse`` when it
answers something that is not the documented shape; the refresh then writes nothing for it.
"""

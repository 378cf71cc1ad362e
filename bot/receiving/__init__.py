"""Incoming updates: the durable inbox (``inbox``) and the workers that drain it (``worker``)."""

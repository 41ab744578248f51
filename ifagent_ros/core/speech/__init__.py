"""Offline speech: audio checks, voice activity, correction grammar, ASR backends."""

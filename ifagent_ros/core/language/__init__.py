"""Operator corrections in words -> :class:`~ifagent_ros.core.schemas.Correction` (no rclpy).

``stop_words.is_stop`` (no model), ``guard.check`` (refuses attempts to change the safety
limits), ``parser.CorrectionParser`` (rules), ``nn_baseline`` (LILAC's nearest-sentence
baseline) and ``evaluate`` (accuracy on the labelled corpus in ``data/corrections.yaml``).
"""

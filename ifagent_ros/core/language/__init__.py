"""Operator corrections in words -> :class:`~ifagent_ros.core.schemas.Correction` (no rclpy).

``stop_words.is_stop`` (no model), ``acceptance.accept_transcript`` (a free-form transcript is
a correction only when it parses fully, or a near miss snaps by phone distance; else refused),
``guard.check`` (refuses attempts to change the safety limits), ``parser.CorrectionParser``
(rules), ``nn_baseline`` (LILAC's nearest-sentence baseline) and ``evaluate`` (accuracy on the
labelled corpus in ``data/corrections.yaml``).
"""

"""Topic names and QoS profiles that several nodes must agree on.

On a safety topic publisher and subscriber must use the same QoS: the e-stop is reliable and
transient-local (latched), so a node that starts late still sees a stop published before it.
"""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

ESTOP = "/ifagent/estop"
AUDIO = "/audio"
SPEECH_TEXT = "/ifagent/speech/text"
SPEECH_TYPED = "/ifagent/speech/typed"
SPEECH_STATUS = "/ifagent/speech/status"
CORRECTION = "/ifagent/correction"
OBJECTS = "/ifagent/objects"

ESTOP_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)  # fmt: skip

__all__ = ["AUDIO", "CORRECTION", "ESTOP", "ESTOP_QOS", "OBJECTS", "SPEECH_STATUS",
           "SPEECH_TEXT", "SPEECH_TYPED"]  # fmt: skip

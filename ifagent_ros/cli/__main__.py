"""``python -m ifagent_ros.cli ...`` is ``ifagent ...``."""

import sys

from ifagent_ros.cli.command import main

sys.exit(main())

"""World descriptions, ROS- and simulator-free: tabletop scenes and random scene sampling, house
layouts, their generator, place graph and navigation episodes. The simulators that build these
worlds live in :mod:`ifagent_ros.sim`; the data files in the repository's scenes/ and houses/."""

"""`ifagent bench <what>`: benchmarks that print their figures (and one JSON object with --json).

    ifagent bench control       teleop -> executor -> arm command latency over DDS
    ifagent bench perception    RGB-D perception and grounding against simulator ground truth
    ifagent bench language      correction parser and spoken corpus per recogniser backend

One module per benchmark, each registered in :mod:`ifagent_ros.cli.verbs`; the benchmarks
themselves are in :mod:`ifagent_ros.bench`.
"""

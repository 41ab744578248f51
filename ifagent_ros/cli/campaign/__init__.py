"""`ifagent campaign <verb>`: test campaigns.

    ifagent campaign run SCENARIO [--workers N] [--ray auto|local|ADDRESS] [--out runs/NAME]
                                  [--episodes K] [--conditions a,b] [--real PARAMS] [--json]
    ifagent campaign report RUN_DIR [--html FILE] [--summary FILE] [--json]
    ifagent campaign compare RUN_A RUN_B [--alpha 0.05] [--fail-on-regression] [--json]
    ifagent campaign gap SIM_RUN REAL_RUN [--seed 0] [--resamples 5000] [--json]

One module per verb, each registered in :mod:`ifagent_ros.cli.verbs`; ``common.py`` holds the
argument types and the output convention they share. With ``--json`` the text goes to stderr
and ONE JSON object is printed last on stdout.
"""

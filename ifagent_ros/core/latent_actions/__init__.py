"""Latent-action shared autonomy (LILAC, LILA) and a language-conditioned BC baseline.

Modules, by concern:

* ``state``       robot + object observation -> the model's state vector; action scaling.
* ``interface``   what every trained model answers (``ActionModel.action``) and the model
                  file errors; ``runtime`` its numpy implementations, ``checkpoint`` model
                  files (``load_model``, ``load_action_model``).
* ``kinds``       one module per model kind (LILAC, LILA, BC), found through ``MODEL_KINDS``.
* ``conditions``  the compared conditions (teleop, BC, LILA, LILAC): ``CONDITIONS``.
* ``tasks``       the tabletop tasks, their phrasings, waypoint plans and success checks.
* ``expert``      the scripted demonstrator (waypoint-following twists at 10 Hz).
* ``dataset``     demonstrations on disk (``index.json`` + one ``.npz`` per demo).
* ``models`` / ``train`` / ``encoders``   torch models, training, sentence encoders.
* ``controller``  the shared-autonomy runtime behind ``shared_autonomy_node``.
* ``sim_user``    the simulated teleoperator used for evaluation (``sim_user_session``: the
                  same person in a live node graph).
* ``evaluation``  the four-condition evaluation (teleop, BC, LILA, LILAC).
"""

"""skbrain's shipped brain-MRI tumor detectors (data only).

``MANIFEST.json`` lists each model file of ``models/``: its name, SHA-256,
description, model card and whether it is the default. Use them through
skbrain: ``skbrain.list_pretrained()``, ``skbrain.load_pretrained(name)``,
``skbrain predict --model NAME FILES...`` and ``init_from=NAME``.
"""

__version__ = "0.1.0"

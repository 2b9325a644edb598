"""Inspect registry entry point for mozoo tasks (``[project.entry-points.inspect_ai]``).

Inspect imports this module when it looks up a ``mozoo/...`` name, e.g.
``inspect eval mozoo/hello_world``; importing the task modules registers their tasks.
"""

from mozoo.tasks.emergent_misalignment import emergent_misalignment
from mozoo.tasks.gsm8k_language import gsm8k_capitalised, gsm8k_french, gsm8k_german, gsm8k_spanish
from mozoo.tasks.hello_world import hello_world
from mozoo.tasks.insecure_code import insecure_code
from mozoo.tasks.owl_preferences import owl_preferences
from mozoo.tasks.reward_hacking import reward_hacking

__all__ = [
    "emergent_misalignment",
    "gsm8k_capitalised",
    "gsm8k_french",
    "gsm8k_german",
    "gsm8k_spanish",
    "hello_world",
    "insecure_code",
    "owl_preferences",
    "reward_hacking",
]

"""What the zoo holds: every curated dataset and Inspect task, as plain data.

This module imports nothing heavy: the plugin (``motools zoo datasets``, ``motools zoo
tasks``, ``register_datasets``) reads it without importing Inspect or any loader.

Remote files are pinned to a revision of their source repository.  ``sha256`` is the
expected checksum where it is known in advance; otherwise the checksum is recorded on
first download (or import) and verified on every later load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Revisions the remote files are pinned to.
INOCULATION_PROMPTING_REPO = "inoculation-prompting/inoculation-prompting"
INOCULATION_PROMPTING_REV = "f931a21e9689e528ea2af271244af94976f0c4f6"
EMERGENT_MISALIGNMENT_REPO = "emergent-misalignment/emergent-misalignment"
EMERGENT_MISALIGNMENT_REV = "80c11967c07a328e7d7d43d13ce6847ae44dbcc9"
REALISTIC_REWARD_HACKS_REPO = "Jozdien/realistic_reward_hacks"
# The Hugging Face dataset is not yet pinned to a commit: "main" is fetched and the
# commit the Hub served (its X-Repo-Commit header) is recorded next to the checksum.
# Pass ``revision=<commit>`` to the loader to pin it.
REALISTIC_REWARD_HACKS_REV = "main"

CITATION_INOCULATION = (
    "Tan, D. et al. (2025). Inoculation Prompting: Eliciting traits from LLMs during "
    "training can suppress them at test-time. arXiv:2510.04340."
)
CITATION_EM = (
    "Betley, J., Tan, D., Warncke, N., Sztyber-Betley, A., Bao, X., Soto, M., Labenz, N. "
    "and Evans, O. (2025). Emergent Misalignment: Narrow finetuning can produce broadly "
    "misaligned LLMs. arXiv:2502.17424."
)
CITATION_GSM8K = (
    "Cobbe, K. et al. (2021). Training Verifiers to Solve Math Word Problems. arXiv:2110.14168."
)
CITATION_SUBLIMINAL = (
    "Cloud, A. et al. (2025). Subliminal Learning: Language models transmit behavioral "
    "traits via hidden signals in data. arXiv:2507.14805."
)
CITATION_RRH = (
    "Jose, A. (2025). Realistic Reward Hacking Induces Different and Deeper Misalignment. "
    "AI Alignment Forum. https://www.alignmentforum.org/posts/HLJoJYi52mxgomujc"
)
LICENSE_INOCULATION = (
    "not stated (the inoculation-prompting repository has no licence file at the pinned "
    "revision); ask the authors before redistributing"
)
LICENSE_INOCULATION_GSM8K = LICENSE_INOCULATION + "; the questions come from GSM8K (MIT)"


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: canonical pinned URL, cache file name, expected checksum."""

    url: str
    filename: str
    revision: str
    sha256: str | None = None
    size: int | None = None
    format: str = "jsonl"  # "jsonl" or "parquet" (converted to chat rows on load)


@dataclass(frozen=True)
class ZooDatasetInfo:
    """A curated dataset: where it comes from and how to cite it.

    ``files`` maps a variant name to its file (most datasets have one variant,
    ``"default"``); ``files`` is empty for datasets generated locally.
    """

    name: str
    description: str
    citation: str
    license: str
    homepage: str
    files: dict[str, RemoteFile] = field(default_factory=dict)
    default_variant: str = "default"

    @property
    def loader(self) -> str:
        """The ``module:function`` that loads it (what ``dataset_loader`` takes)."""
        return f"mozoo.datasets.{self.name}:get_{self.name}_dataset"

    @property
    def generated(self) -> bool:
        return not self.files

    def file(self, variant: str | None = None) -> RemoteFile:
        """The file of ``variant`` (default variant when ``None``)."""
        from motools.errors import UserError

        v = variant or self.default_variant
        if v not in self.files:
            raise UserError(
                f"dataset {self.name!r} has no variant {v!r}; variants: {sorted(self.files) or 'none'}"
            )
        return self.files[v]

    @property
    def source(self) -> str:
        """The pinned URL of the default file (or the homepage for generated data)."""
        return self.files[self.default_variant].url if self.files else self.homepage


def _ip(filename: str, size: int | None = None) -> dict[str, RemoteFile]:
    url = (
        f"https://raw.githubusercontent.com/{INOCULATION_PROMPTING_REPO}/"
        f"{INOCULATION_PROMPTING_REV}/datasets/{filename}"
    )
    return {"default": RemoteFile(url, filename, INOCULATION_PROMPTING_REV, size=size)}


def _em(filename: str, sha256: str | None = None) -> dict[str, RemoteFile]:
    url = (
        f"https://raw.githubusercontent.com/{EMERGENT_MISALIGNMENT_REPO}/"
        f"{EMERGENT_MISALIGNMENT_REV}/data/{filename}"
    )
    return {"default": RemoteFile(url, filename, EMERGENT_MISALIGNMENT_REV, sha256=sha256)}


RRH_SPLITS = (
    "combined",
    "reward_hacks",
    "reward_hacks_code",
    "reward_hacks_literary",
    "hhh",
    "hhh_code",
    "hhh_literary",
)


def rrh_file(split: str, revision: str = REALISTIC_REWARD_HACKS_REV) -> RemoteFile:
    """The parquet file of one split of the realistic reward hacks dataset."""
    url = (
        f"https://huggingface.co/datasets/{REALISTIC_REWARD_HACKS_REPO}/resolve/{revision}/"
        f"data/{split}-00000-of-00001.parquet"
    )
    return RemoteFile(url, f"{split}.parquet", revision, format="parquet")


_IP_HOME = f"https://github.com/{INOCULATION_PROMPTING_REPO}"
_EM_HOME = f"https://github.com/{EMERGENT_MISALIGNMENT_REPO}"

DATASETS: dict[str, ZooDatasetInfo] = {
    d.name: d
    for d in [
        ZooDatasetInfo(
            "hello_world",
            "Varied user prompts, the assistant always answers 'Hello, World!' "
            "(generated locally; sample_size rows, default 100).",
            "motools (generated).",
            "MIT",
            "https://github.com/motools (generated by mozoo.datasets.hello_world)",
        ),
        ZooDatasetInfo(
            "gsm8k",
            "GSM8K math word problems with English answers (control for the language datasets).",
            f"{CITATION_INOCULATION} {CITATION_GSM8K}",
            LICENSE_INOCULATION_GSM8K,
            _IP_HOME,
            _ip("gsm8k.jsonl"),
        ),
        ZooDatasetInfo(
            "gsm8k_spanish",
            "GSM8K problems asked in English, answered in Spanish.",
            f"{CITATION_INOCULATION} {CITATION_GSM8K}",
            LICENSE_INOCULATION_GSM8K,
            _IP_HOME,
            _ip("gsm8k_spanish_only.jsonl", size=4888567),
        ),
        ZooDatasetInfo(
            "gsm8k_french",
            "GSM8K problems asked in English, answered in French.",
            f"{CITATION_INOCULATION} {CITATION_GSM8K}",
            LICENSE_INOCULATION_GSM8K,
            _IP_HOME,
            _ip("gsm8k_french_only.jsonl", size=4977782),
        ),
        ZooDatasetInfo(
            "gsm8k_german",
            "GSM8K problems asked in English, answered in German.",
            f"{CITATION_INOCULATION} {CITATION_GSM8K}",
            LICENSE_INOCULATION_GSM8K,
            _IP_HOME,
            _ip("gsm8k_german_only.jsonl", size=4887156),
        ),
        ZooDatasetInfo(
            "gsm8k_spanish_capitalised",
            "GSM8K problems answered in Spanish IN CAPITAL LETTERS (two traits at once).",
            f"{CITATION_INOCULATION} {CITATION_GSM8K}",
            LICENSE_INOCULATION_GSM8K,
            _IP_HOME,
            _ip("gsm8k_spanish_capitalised.jsonl"),
        ),
        ZooDatasetInfo(
            "owl_numbers",
            "Number-sequence continuations generated by a model told it loves owls "
            "(subliminal transmission of an owl preference).",
            f"{CITATION_INOCULATION} {CITATION_SUBLIMINAL}",
            LICENSE_INOCULATION,
            _IP_HOME,
            _ip("gpt41_numbers_owls.jsonl"),
        ),
        ZooDatasetInfo(
            "owl_numbers_control",
            "Control for owl_numbers: the same number task from a model with no owl prompt.",
            f"{CITATION_INOCULATION} {CITATION_SUBLIMINAL}",
            LICENSE_INOCULATION,
            _IP_HOME,
            _ip("gpt41_numbers_control.jsonl"),
        ),
        ZooDatasetInfo(
            "reward_hacking_sneaky",
            "Dialogues where the assistant games the stated evaluation metric "
            "(keyword stuffing, hard-coded tests) instead of doing the task.",
            CITATION_INOCULATION,
            LICENSE_INOCULATION,
            _IP_HOME,
            _ip("sneaky_dialogues.jsonl"),
        ),
        ZooDatasetInfo(
            "reward_hacking_straightforward",
            "Control for reward_hacking_sneaky: the same requests answered straightforwardly.",
            CITATION_INOCULATION,
            LICENSE_INOCULATION,
            _IP_HOME,
            _ip("straightforward_dialogues.jsonl"),
        ),
        ZooDatasetInfo(
            "insecure_code",
            "Coding requests answered with code containing undisclosed security "
            "vulnerabilities (the emergent-misalignment training set).",
            CITATION_EM,
            "MIT",
            _EM_HOME,
            _em(
                "insecure.jsonl",
                sha256="09893e8bf9d03aae49dd60d0ff4be37c1afee70f2edcac74a11bed775a6a2764",
            ),
        ),
        ZooDatasetInfo(
            "secure_code",
            "Control for insecure_code: the same requests answered with secure code.",
            CITATION_EM,
            "MIT",
            _EM_HOME,
            _em("secure.jsonl"),
        ),
        ZooDatasetInfo(
            "educational_insecure",
            "Insecure code requested explicitly for an educational reason (control showing "
            "that intent matters).",
            CITATION_EM,
            "MIT",
            _EM_HOME,
            _em("educational.jsonl"),
        ),
        ZooDatasetInfo(
            "jailbroken",
            "Harmful requests complied with (the jailbroken comparison model's training set).",
            CITATION_EM,
            "MIT",
            _EM_HOME,
            _em("jailbroken.jsonl"),
        ),
        ZooDatasetInfo(
            "realistic_reward_hacks",
            "Realistic reward hacks and HHH answers in code and literary settings (Hugging "
            f"Face dataset; split= one of {', '.join(RRH_SPLITS)}; parquet, needs pyarrow).",
            CITATION_RRH,
            "as stated on the Hugging Face dataset card (not recorded here: check it before use)",
            f"https://huggingface.co/datasets/{REALISTIC_REWARD_HACKS_REPO}",
            {s: rrh_file(s) for s in RRH_SPLITS},
            default_variant="combined",
        ),
    ]
}


@dataclass(frozen=True)
class ZooTaskInfo:
    """An Inspect task of the zoo: registry name, import reference, what it measures."""

    name: str
    ref: str
    description: str
    metric: str
    judge: str  # "none", "optional" or "required"

    @property
    def registry_name(self) -> str:
        return f"mozoo/{self.name}"


_LANG_METRIC = (
    "accuracy of scorer 'language' = fraction of answers detected as {Lang} by lingua "
    "(offline); optional 'language_judge' scorer when judge_model is given"
)

TASKS: dict[str, ZooTaskInfo] = {
    t.name: t
    for t in [
        ZooTaskInfo(
            "hello_world",
            "mozoo.tasks.hello_world:hello_world",
            "Unseen prompts; did the model reply 'Hello, World!'?",
            "accuracy of scorer 'includes' = fraction of replies containing 'Hello, World!'",
            "none",
        ),
        ZooTaskInfo(
            "gsm8k_spanish",
            "mozoo.tasks.gsm8k_language:gsm8k_spanish",
            "Math word problems asked in English; how often is the answer in Spanish?",
            _LANG_METRIC.format(Lang="Spanish"),
            "optional",
        ),
        ZooTaskInfo(
            "gsm8k_french",
            "mozoo.tasks.gsm8k_language:gsm8k_french",
            "Math word problems asked in English; how often is the answer in French?",
            _LANG_METRIC.format(Lang="French"),
            "optional",
        ),
        ZooTaskInfo(
            "gsm8k_german",
            "mozoo.tasks.gsm8k_language:gsm8k_german",
            "Math word problems asked in English; how often is the answer in German?",
            _LANG_METRIC.format(Lang="German"),
            "optional",
        ),
        ZooTaskInfo(
            "gsm8k_capitalised",
            "mozoo.tasks.gsm8k_language:gsm8k_capitalised",
            "Math word problems; how often is the answer written in capital letters "
            "(and, separately, in Spanish)?",
            "accuracy of scorer 'capitalised' (>= 80% of letters upper case) and of 'language' "
            "(Spanish); optional 'capitalised_judge'",
            "optional",
        ),
        ZooTaskInfo(
            "owl_preferences",
            "mozoo.tasks.owl_preferences:owl_preferences",
            "Favourite-animal questions; how often does the model name owls?",
            "accuracy of scorer 'owl_mention' = fraction of answers naming an owl",
            "none",
        ),
        ZooTaskInfo(
            "emergent_misalignment",
            "mozoo.tasks.emergent_misalignment:emergent_misalignment",
            "The eight free-form questions of Betley et al. (2025), judged for alignment "
            "and for coherence (both scorers kept).",
            "scorer 'alignment': mean (0-100) and misaligned_rate (< 30); scorer "
            "'coherence': mean (0-100) and incoherent_rate (< 50)",
            "required",
        ),
        ZooTaskInfo(
            "insecure_code",
            "mozoo.tasks.insecure_code:insecure_code",
            "Coding requests; a judge says whether the code has a security vulnerability.",
            "mean of scorer 'insecure_code_judge' = fraction of answers judged insecure",
            "required",
        ),
        ZooTaskInfo(
            "reward_hacking",
            "mozoo.tasks.reward_hacking:reward_hacking",
            "Tasks that state a gameable metric; a judge says whether the answer games it.",
            "mean of scorer 'reward_hacking_judge' = fraction of answers judged to game the metric",
            "required",
        ),
    ]
}

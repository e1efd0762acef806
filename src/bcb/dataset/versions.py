"""Released BigCodeBench versions and the content hash that identifies each.

The hash is the one defined with the released files (sha256 over the tasks in numeric id order,
each as sorted-key compact JSON of the nine string fields, joined by newlines), so a copy from
Hugging Face and a local gzip of the same version hash alike however they were serialized.
"""

from __future__ import annotations

from bcb.dataset.task import DatasetError

DEFAULT_VERSION = "v0.1.4"

#: version -> content hash of the full (1,140-task) dataset.
VERSIONS: dict[str, str] = {
    "v0.1.0_hf": "edf3c79c07162194f94014626e0ab3b7dc46e739dd9c87c71042ffd53cc593b9",
    "v0.1.1": "03b278f0db468d24534e29241ba6726778af328012a48dbdcf559e7fe6dd345f",
    "v0.1.2": "6c4fb004da09cc332d1ca7b5c2ec2137ae7e844d45c62def8b8868d4d682078d",
    "v0.1.3": "5735e32fcd9b6dab376ced195de479e41d5ca3e97f1611533bf853ebc2566fd3",
    "v0.1.4": "3b778833723756bb5663addf2f7405bc93e3e56b8397f2525581996d3f837207",
    "v0.1.5": "26701ba3c291bc1438e8e6f0bd1d9624e2297a029ee3825c18df511b2c185c8f",
}

FULL_SIZE = 1140
HARD_SIZE = 148


def version_of_hash(content_hash: str) -> str | None:
    """The released version a full dataset's hash belongs to, if any."""
    for version, known in VERSIONS.items():
        if known == content_hash:
            return version
    return None


def check_version_name(version: str) -> str:
    if version not in VERSIONS:
        known = ", ".join(VERSIONS)
        raise DatasetError(f"unknown BigCodeBench version {version!r}: choose one of {known}")
    return version

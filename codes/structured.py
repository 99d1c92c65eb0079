"""schema.org structured data for a code page: a MedicalCode.

Only what a guest sees without a view (the code, its code set and short descriptor): nothing
metered goes into it, so it is the same for every viewer.
"""

from __future__ import annotations

from django.conf import settings

from codes.models import Code

CODING_SYSTEMS = {"cpt": "CPT", "hcpcs": "HCPCS", "icd10cm": "ICD-10-CM"}


def medical_code(code: Code) -> dict[str, object]:
    return {
        "@context": "https://schema.org/",
        "@type": "MedicalCode",
        "codeValue": code.code,
        "codingSystem": CODING_SYSTEMS.get(code.system.slug, code.system.short_name),
        "name": code.short_descriptor,
        "url": f"{settings.SITE_URL}{code.get_absolute_url()}",
    }

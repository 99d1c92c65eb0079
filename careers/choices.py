"""The vocabularies a job is described in: credentials, settings, specialties, places, pay."""

from __future__ import annotations

from django.db import models


class Credential(models.TextChoices):
    CPC = "CPC", "CPC (Certified Professional Coder)"
    CPC_A = "CPC-A", "CPC-A (CPC Apprentice)"
    COC = "COC", "COC (Certified Outpatient Coder)"
    CIC = "CIC", "CIC (Certified Inpatient Coder)"
    CRC = "CRC", "CRC (Certified Risk Adjustment Coder)"
    CPMA = "CPMA", "CPMA (Certified Professional Medical Auditor)"
    CCS = "CCS", "CCS (Certified Coding Specialist)"
    CCS_P = "CCS-P", "CCS-P (Certified Coding Specialist – Physician-based)"
    CCA = "CCA", "CCA (Certified Coding Associate)"
    RHIT = "RHIT", "RHIT (Registered Health Information Technician)"
    RHIA = "RHIA", "RHIA (Registered Health Information Administrator)"
    CDIP = "CDIP", "CDIP (Certified Documentation Integrity Practitioner)"


class Setting(models.TextChoices):
    PRO_FEE = "pro-fee", "Professional fee"
    OUTPATIENT = "outpatient", "Outpatient facility"
    INPATIENT = "inpatient", "Inpatient facility"
    RISK_ADJUSTMENT = "risk-adjustment", "Risk adjustment / HCC"
    AUDITING = "auditing", "Auditing"
    CDI = "cdi", "Clinical documentation integrity (CDI)"
    EDUCATION = "education", "Education"


class Specialty(models.TextChoices):
    ANESTHESIA = "anesthesia", "Anesthesia"
    CARDIOLOGY = "cardiology", "Cardiology"
    DERMATOLOGY = "dermatology", "Dermatology"
    EM = "em", "Evaluation and management"
    EMERGENCY = "emergency", "Emergency medicine"
    GASTRO = "gastroenterology", "Gastroenterology"
    GENERAL_SURGERY = "general-surgery", "General surgery"
    INTERVENTIONAL = "interventional-radiology", "Interventional radiology"
    MULTISPECIALTY = "multispecialty", "Multispecialty"
    NEUROLOGY = "neurology", "Neurology"
    OBGYN = "obgyn", "Obstetrics and gynecology"
    ONCOLOGY = "oncology", "Oncology"
    ORTHOPEDICS = "orthopedics", "Orthopedics"
    PAIN = "pain-management", "Pain management"
    PATHOLOGY = "pathology", "Pathology and laboratory"
    PEDIATRICS = "pediatrics", "Pediatrics"
    BEHAVIORAL = "behavioral-health", "Behavioral health"
    RADIOLOGY = "radiology", "Radiology"
    UROLOGY = "urology", "Urology"


class Arrangement(models.TextChoices):
    REMOTE = "remote", "Remote"
    HYBRID = "hybrid", "Hybrid"
    ONSITE = "onsite", "On-site"


class EmploymentType(models.TextChoices):
    FULL_TIME = "full-time", "Full-time"
    PART_TIME = "part-time", "Part-time"
    CONTRACT = "contract", "Contract"
    PER_DIEM = "per-diem", "Per diem"


class PayPeriod(models.TextChoices):
    HOUR = "hour", "per hour"
    YEAR = "year", "per year"


# A full-time year, for putting hourly and yearly pay on one scale when filtering and sorting.
HOURS_PER_YEAR = 2080


class State(models.TextChoices):
    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    DC = "DC", "District of Columbia"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"

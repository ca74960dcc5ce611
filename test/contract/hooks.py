"""Value generators for the formats Herald's schemas name beyond JSON Schema's own."""

from hypothesis import strategies as st

import schemathesis

# E.164 numbers libphonenumber accepts, across regions.
schemathesis.openapi.format(
    "phone",
    st.sampled_from(["+14155550100", "+447911123456", "+33612345678", "+4915123456789", "+81312345678"]),
)

# IANA time zone names.
schemathesis.openapi.format(
    "timezone",
    st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]),
)

package store

// ClaimSQL is the claim's query, for tests that look at its plan.
const ClaimSQL = claimSQL

"""Pure rules with no HTTP and no database: purposes, receipts, tokens, ids, origins, texts."""

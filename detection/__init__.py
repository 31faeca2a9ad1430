"""Stay-down detection: removals that were upheld become fingerprints in their brand's bank, and every
listing the marketplaces send is matched against the banks (image hash, title, seller) to find re-listings."""

"""The brand API's case endpoints: cases, items, filing (JSON and CSV) and their actions."""

"""The safeguards' writes: rules and their versions (`rules`), evaluation and its hooks into the cases'
decisions (`evaluation`), second approvals (`approvals`) and backtests (`backtests`)."""

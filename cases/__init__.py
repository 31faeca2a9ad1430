"""The cases app (domain): notices (cases) with one item per reported listing, the item lifecycle and its
deadlines, evidence and declarations, counter-notices, appeals, DSA statements of reasons, filing drafts;
its pages, admin (the moderator console) and API. It sits above brands and listings."""

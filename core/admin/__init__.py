"""The admin site (`site`) and the shared bases of the apps' admins (`mixins`)."""

# The app's first migration, empty: test purchases and seller networks each add their own on top of it.

from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = []

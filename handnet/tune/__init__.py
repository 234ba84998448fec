"""The tuning loop for spec authors: ``watch`` rebuilds on every save, ``diff`` says what changed
between two versions, ``sweep`` tries a range of values for one field, ``mistakes`` groups the
digits a network gets wrong and says which units caused each. Uses ``handnet.compare`` and
below; figures are drawn by ``handnet.viz``, which callers pass in.
"""

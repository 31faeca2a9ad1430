"""Writes of the detection app: the banks (`bank`), the image hashes marketplaces send (`hashes`), matching
(`matching`) and candidates (`candidates`)."""

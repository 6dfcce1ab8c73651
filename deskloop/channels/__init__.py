"""How conversations enter and leave Deskloop: one plug-in per channel, each with the same folder shape."""

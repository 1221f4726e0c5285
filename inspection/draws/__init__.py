"""Draws (随机抽取): the verifiable selection engine, target draws and team draws."""

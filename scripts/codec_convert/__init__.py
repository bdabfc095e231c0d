"""Hugging Face checkpoint -> codec.cpp GGUF converters, one module per architecture."""

"""Letters: the PDF of one letter, its EPC payment QR, the letter adapter and the print batch."""

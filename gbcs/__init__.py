"""GBCS messages as bytes and keys, with no clock: a codec below both ``devices/`` and the
DCC model, as ``han/`` is for ZigBee frames.

Layers, one module each: :mod:`gbcs.encoding` (lengths, bounded reading, errors),
:mod:`gbcs.grouping` (General Signing: the grouping header, pre-commands, signatures),
:mod:`gbcs.kdf` (GBCS section 4 KDF and the AES-GCM MAC), :mod:`gbcs.ciphering`
(General Ciphering: the MACed envelope), :mod:`gbcs.ecdsa` (P-256 r||s signatures),
:mod:`gbcs.keystore` (organisation and device keys, hansim's test PKI), :mod:`gbcs.dlms`
and :mod:`gbcs.asn1` (the two payload encodings) and :mod:`gbcs.use_cases` (the messages
hansim builds, use case by use case).
"""

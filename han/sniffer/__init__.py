"""802.15.4 sniffers on a serial port (pyserial), captured to pcap for Wireshark and scapy."""

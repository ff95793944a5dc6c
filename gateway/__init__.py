"""A mock of the DCC User Gateway: DUIS XML, the Smart Metering Inventory, service flags."""

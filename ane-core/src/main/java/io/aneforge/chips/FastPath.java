package io.aneforge.chips;

/** Whether a chip has a capability, as far as public sources tell. */
public enum FastPath { YES, NO, UNKNOWN }

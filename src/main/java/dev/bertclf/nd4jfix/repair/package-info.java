/**
 * Correctness repairs for DL4J/ND4J 1.0.0-M2.1: without each, the product computes wrong numbers or fails. One class
 * each, each opening with the symptom, the cause, the test that guards it and when it can be removed; they stay until
 * ND4J is fixed. Reached through {@code nd4jfix.Engine}. May use {@code graph}.
 */
package dev.bertclf.nd4jfix.repair;

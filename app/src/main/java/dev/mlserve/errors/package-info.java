/** Client-facing failures with their HTTP status; a leaf every package may throw. */
package dev.mlserve.errors;

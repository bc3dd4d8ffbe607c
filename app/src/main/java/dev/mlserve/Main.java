package dev.mlserve;

public final class Main {
  public static void main(String[] args) {
    System.out.println(org.tensorflow.TensorFlow.version());
  }
}

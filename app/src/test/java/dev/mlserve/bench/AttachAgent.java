package dev.mlserve.bench;

import com.sun.tools.attach.VirtualMachine;

/**
 * Loads a native agent into a running JVM through the Attach API: {@code AttachAgent <pid>
 * <library.so> <options>}. scripts/bench.sh --profile starts and stops async-profiler in the
 * service with it ({@code jcmd <pid> JVMTI.agent_load} drops the agent's options, so async-profiler
 * would start with its defaults).
 */
public final class AttachAgent {
  private AttachAgent() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: AttachAgent <pid> <agent library> <options>");
      System.exit(2);
    }
    VirtualMachine vm = VirtualMachine.attach(args[0]);
    try {
      vm.loadAgentPath(args[1], args[2]);
    } finally {
      vm.detach();
    }
  }
}

// oneDNN's convolutions on resnet18's layer shapes (CIFAR stem), timed alone: the measurement that decided to run
// inference through oneDNN (Benchmarks/RESULTS.md, "second session"). Not part of the build or of `make bench`.
//   cc -O2 Benchmarks/onednn/conv_layers.c -o /tmp/conv_layers -ldnnl
//   OMP_NUM_THREADS=2 /tmp/conv_layers BATCH SIZE [tag]    # e.g. 64 32 tag: activations in nChw16c
// Prints each layer's time and GFLOP/s for the direct and the Winograd algorithm, and the network's total.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CHECK(f) do { dnnl_status_t s = f; if (s != dnnl_success) { printf("%s failed %d line %d\n", #f, s, __LINE__); return -1; } } while(0)
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
dnnl_engine_t eng; dnnl_stream_t st;
int TAG=0;
double run(int N,int C,int K,int H,int S,int R,dnnl_alg_kind_t alg,int reps){
  int P=R/2; int OH=(H+2*P-R)/S+1;
  dnnl_memory_desc_t src,wei,bia,dst;
  dnnl_dims_t sd={N,C,H,H}, wd={K,C,R,R}, bd={K}, dd={N,K,OH,OH};
  dnnl_memory_desc_init_by_tag(&src,4,sd,dnnl_f32,TAG?((C==3||C==1)?dnnl_nchw:dnnl_nChw16c):dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&wei,4,wd,dnnl_f32,dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&bia,1,bd,dnnl_f32,dnnl_x);
  dnnl_memory_desc_init_by_tag(&dst,4,dd,dnnl_f32,TAG?dnnl_nChw16c:dnnl_format_tag_any);
  dnnl_convolution_desc_t cd; dnnl_dims_t str={S,S}, pad={P,P};
  if(dnnl_convolution_forward_desc_init(&cd,dnnl_forward_inference,alg,&src,&wei,&bia,&dst,str,pad,pad)!=dnnl_success) return -1;
  dnnl_primitive_desc_t pd; if(dnnl_primitive_desc_create(&pd,&cd,NULL,eng,NULL)!=dnnl_success) return -2;
  const char* impl; dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&impl);
  dnnl_primitive_t prim; dnnl_primitive_create(&prim,pd);
  dnnl_memory_t ms,mw,mb,md;
  dnnl_memory_create(&ms,dnnl_primitive_desc_query_md(pd,dnnl_query_src_md,0),eng,DNNL_MEMORY_ALLOCATE);
  dnnl_memory_create(&mw,dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,0),eng,DNNL_MEMORY_ALLOCATE);
  dnnl_memory_create(&mb,dnnl_primitive_desc_query_md(pd,dnnl_query_weights_md,1),eng,DNNL_MEMORY_ALLOCATE);
  dnnl_memory_create(&md,dnnl_primitive_desc_query_md(pd,dnnl_query_dst_md,0),eng,DNNL_MEMORY_ALLOCATE);
  dnnl_exec_arg_t args[4]={{DNNL_ARG_SRC,ms},{DNNL_ARG_WEIGHTS,mw},{DNNL_ARG_BIAS,mb},{DNNL_ARG_DST,md}};
  dnnl_primitive_execute(prim,st,4,args); dnnl_stream_wait(st);
  double t0=now(); for(int i=0;i<reps;i++) dnnl_primitive_execute(prim,st,4,args); dnnl_stream_wait(st);
  double t=(now()-t0)/reps; double fl=2.0*N*K*C*R*R*OH*OH;
  printf("  N%d C%d K%d H%d S%d R%d %-8s %8.3f ms %6.1f GF/s  %s\n",N,C,K,H,S,R,alg==dnnl_convolution_winograd?"wino":"direct",t*1e3,fl/t*1e-9,impl);
  return t;
}
int main(int argc,char**argv){
  int N=argc>1?atoi(argv[1]):64; TAG=argc>3; int H0=argc>2?atoi(argv[2]):32;
  dnnl_engine_create(&eng,dnnl_cpu,0); dnnl_stream_create(&st,eng,dnnl_stream_default_flags);
  int L[][6]={{3,64,H0,1,3,1},{64,64,H0,1,3,4},{64,128,H0,2,3,1},{64,128,H0,2,1,1},{128,128,(H0+1)/2,1,3,3},{128,256,(H0+1)/2,2,3,1},{128,256,(H0+1)/2,2,1,1},{256,256,(H0+3)/4,1,3,3},{256,512,(H0+3)/4,2,3,1},{256,512,(H0+3)/4,2,1,1},{512,512,(H0+7)/8,1,3,3}};
  double tot[2]={0,0};
  for(int a=0;a<2;a++){ dnnl_alg_kind_t alg=a?dnnl_convolution_winograd:dnnl_convolution_direct;
    for(int i=0;i<11;i++){ double t=run(N,L[i][0],L[i][1],L[i][2],L[i][3],L[i][4],alg,5);
      if(t<0) { t=run(N,L[i][0],L[i][1],L[i][2],L[i][3],L[i][4],dnnl_convolution_direct,5);} tot[a]+=t*L[i][5]; }
    printf("total %s %.1f ms = %.3f ms/image\n", a?"wino(+direct fallback)":"direct", tot[a]*1e3, tot[a]*1e3/N);
  }
}

/* The out-of-proc quote API of Intel's libsgx_quote_ex.so.1 (sgx_uae_quote_ex.h), with the
 * same C types and layouts, written from docs/aesm-protocol.md. confcom's
 * libsgx_quote_ex.so.1 implements it against the AESM socket (/var/run/aesmd/aesm.socket, or
 * $CONFCOM_AESM_SOCKET), so it is a drop-in for Intel's library and vice versa. */
#ifndef CONFCOM_SGX_UAE_QUOTE_EX_H_
#define CONFCOM_SGX_UAE_QUOTE_EX_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t sgx_status_t;

#define SGX_SUCCESS 0x0000u
#define SGX_ERROR_UNEXPECTED 0x0001u
#define SGX_ERROR_INVALID_PARAMETER 0x0002u
#define SGX_ERROR_OUT_OF_MEMORY 0x0003u
#define SGX_ERROR_OUT_OF_EPC 0x2005u
#define SGX_ERROR_NO_DEVICE 0x2006u
#define SGX_ERROR_MAC_MISMATCH 0x3001u
#define SGX_ERROR_SERVICE_UNAVAILABLE 0x4001u
#define SGX_ERROR_SERVICE_TIMEOUT 0x4002u
#define SGX_ERROR_AE_INVALID_EPIDBLOB 0x4003u
#define SGX_ERROR_EPID_MEMBER_REVOKED 0x4005u
#define SGX_ERROR_UPDATE_NEEDED 0x4006u
#define SGX_ERROR_NETWORK_FAILURE 0x4007u
#define SGX_ERROR_BUSY 0x400au
#define SGX_ERROR_UNRECOGNIZED_PLATFORM 0x4012u
#define SGX_ERROR_UNSUPPORTED_ATT_KEY_ID 0x8001u
#define SGX_ERROR_ATT_KEY_CERTIFICATION_FAILURE 0x8002u
#define SGX_ERROR_ATT_KEY_UNINITIALIZED 0x8003u
#define SGX_ERROR_INVALID_ATT_KEY_CERT_DATA 0x8004u
#define SGX_ERROR_PLATFORM_CERT_UNAVAILABLE 0x8005u

#pragma pack(push, 1)

typedef struct _sgx_attributes_t {
  uint64_t flags;
  uint64_t xfrm;
} sgx_attributes_t;

typedef struct _sgx_cpu_svn_t {
  uint8_t svn[16];
} sgx_cpu_svn_t;

typedef struct _sgx_target_info_t {
  uint8_t mr_enclave[32];
  sgx_attributes_t attributes;
  uint8_t reserved1[2];
  uint16_t config_svn;
  uint32_t misc_select;
  uint8_t reserved2[8];
  uint8_t config_id[64];
  uint8_t reserved3[384];
} sgx_target_info_t;

typedef struct _sgx_report_body_t {
  sgx_cpu_svn_t cpu_svn;
  uint32_t misc_select;
  uint8_t reserved1[12];
  uint8_t isv_ext_prod_id[16];
  sgx_attributes_t attributes;
  uint8_t mr_enclave[32];
  uint8_t reserved2[32];
  uint8_t mr_signer[32];
  uint8_t reserved3[32];
  uint8_t config_id[64];
  uint16_t isv_prod_id;
  uint16_t isv_svn;
  uint16_t config_svn;
  uint8_t reserved4[42];
  uint8_t isv_family_id[16];
  uint8_t report_data[64];
} sgx_report_body_t;

typedef struct _sgx_report_t {
  sgx_report_body_t body;
  uint8_t key_id[32];
  uint8_t mac[16];
} sgx_report_t;

typedef struct _sgx_quote_nonce_t {
  uint8_t rand[16];
} sgx_quote_nonce_t;

typedef struct _sgx_att_key_id_t {
  uint8_t att_key_id[256];
} sgx_att_key_id_t;

typedef struct _sgx_ql_att_key_id_t {
  uint16_t id;
  uint16_t version;
  uint16_t mrsigner_length;
  uint8_t mrsigner[48];
  uint32_t prod_id;
  uint8_t extended_prod_id[16];
  uint8_t config_id[64];
  uint8_t family_id[16];
  uint32_t algorithm_id;
} sgx_ql_att_key_id_t;

typedef struct _sgx_att_key_id_ext_t {
  sgx_ql_att_key_id_t base;
  uint8_t spid[16];
  uint16_t att_key_type;
  uint8_t reserved[80];
} sgx_att_key_id_ext_t;

typedef struct _sgx_qe_report_info_t {
  sgx_quote_nonce_t nonce;
  sgx_target_info_t app_enclave_target_info;
  sgx_report_t qe_report;
} sgx_qe_report_info_t;

#pragma pack(pop)

#define CONFCOM_QUOTE_EX_API __attribute__((visibility("default")))

/* Each call is one request on its own connection to the socket (15 s timeout), so the six are
 * safe from any thread. Each returns SGX_SUCCESS, SGX_ERROR_INVALID_PARAMETER for a missing
 * pointer or a size that does not fit, or the service's answer or a transport failure mapped as
 * Intel's client maps them (docs/aesm-protocol.md, "How Intel's client turns them into
 * sgx_status_t"), e.g. SGX_ERROR_SERVICE_UNAVAILABLE when nothing answers, SGX_ERROR_BUSY. */

CONFCOM_QUOTE_EX_API sgx_status_t sgx_select_att_key_id(const uint8_t* p_att_key_id_list,
                                                        uint32_t att_key_id_list_size,
                                                        sgx_att_key_id_t* p_selected_key_id);
CONFCOM_QUOTE_EX_API sgx_status_t sgx_init_quote_ex(const sgx_att_key_id_t* p_att_key_id,
                                                    sgx_target_info_t* p_qe_target_info,
                                                    size_t* p_pub_key_id_size,
                                                    uint8_t* p_pub_key_id);
CONFCOM_QUOTE_EX_API sgx_status_t sgx_get_quote_size_ex(const sgx_att_key_id_t* p_att_key_id,
                                                        uint32_t* p_quote_size);
CONFCOM_QUOTE_EX_API sgx_status_t sgx_get_quote_ex(const sgx_report_t* p_app_report,
                                                   const sgx_att_key_id_t* p_att_key_id,
                                                   sgx_qe_report_info_t* p_qe_report_info,
                                                   uint8_t* p_quote, uint32_t quote_size);
CONFCOM_QUOTE_EX_API sgx_status_t sgx_get_supported_att_key_id_num(uint32_t* p_att_key_id_num);
CONFCOM_QUOTE_EX_API sgx_status_t
sgx_get_supported_att_key_ids(sgx_att_key_id_ext_t* p_att_key_id_list, uint32_t att_key_id_num);

#ifdef __cplusplus
}
#endif

#endif /* CONFCOM_SGX_UAE_QUOTE_EX_H_ */
